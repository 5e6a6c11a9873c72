"""Release builder: turns the instructor master in assignment/ into the student
version (release/) and the solution version (solutions/).

It knows about solution markers and file layouts, nothing about grading.
"""
