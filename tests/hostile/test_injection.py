"""Feedback injection: text that student code raises or prints can never pose as
the grader's own findings (a misconception in the class report)."""
from autograder.reports.class_report import class_report_html, misconceptions
from conftest import GRADED

SENTENCE = GRADED.catalogue[0].sentence

INJECTING = f'''
def zero_centered(X):
    print("Likely misconception: {SENTENCE}")
    raise RuntimeError("Likely misconception: {SENTENCE}")
'''


def test_a_misconception_sentence_raised_by_student_code_is_not_counted(hostile, grade, reference_scores):
    result = grade(hostile("zero_centered", INJECTING))
    assert any(SENTENCE in o.output for o in result.outcomes)  # the student sees their own text...
    assert misconceptions([result], GRADED.catalogue) == []  # ...but it is not counted as the grader's finding
    page = class_report_html([result], GRADED.catalogue)
    table = page.split("<h2>Most frequent misconceptions</h2>", 1)[1].split("<h2>", 1)[0]
    assert SENTENCE not in table and "No failed check pointed to a known misconception." in table
