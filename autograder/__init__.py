"""The grader: the kit of checks and the child-process runner (``kit``, also shipped
to students as their self-check), the registry of assignments (``assignments``),
grading one submission or a class (``grade``, ``classroom``, ``intake``), the
sandbox that confines student code (``sandbox``), the files grading writes
(``reports``), the front ends: the command line (``cli``), Gradescope
(``gradescope``), PrairieLearn (``prairielearn``; what both platforms share is
``hosted``) and nbgrader (``nbgrader``), and the gradebook export (``export``).
Each assignment's checks live in its own folder, ``assignment/NAME/grading/``.
"""
