"""Write an assignment's PrairieLearn question and the image its grader runs in.

    OUT/questions/NAME/info.json       external grading: image, entrypoint, timeout
    OUT/questions/NAME/question.html   one upload for the modules, the results panel
    OUT/questions/NAME/tests/          the grader (PrairieLearn copies it to /grade/tests
                                       for each job; students never see it)
    OUT/image/Dockerfile, requirements.txt   the image: Python, the pinned numpy, bubblewrap

The course copies ``questions/NAME`` into its own ``questions/``, builds the image and
pushes it where PrairieLearn pulls images from. Nothing secret goes into the image.
The folder is the same, byte for byte, from run to run.
"""
import html
import json
import os
import shlex
import uuid
from pathlib import Path

from ..hosted import grader_files, pinned_requirements
from ..reports.files import fresh_folder, umask, write_atomic_bytes

HERE = Path(__file__).resolve().parent
ENTRYPOINT = "/grade/tests/run_grader"
MAX_JOB_SECONDS = 600  # PrairieLearn's ceiling on a grading job's timeout
START_SECONDS = 60  # beyond the student's budget: the container, Python, the reference's answers
# A fixed namespace, so that a question keeps its uuid from build to build (PrairieLearn
# tracks a question's submissions by it) and two assignments never share one.
NAMESPACE = uuid.UUID("5c0f2d64-93a1-4f3c-9a8e-2b7b1a64c0de")
DEFAULT_IMAGE = "batchnorm-course/autograder"


class NotAQuestionFolder(ValueError):
    """The output folder holds something other than an earlier build."""


def job_timeout(budget):
    """PrairieLearn's timeout of a grading job: the budget of the student's calls
    plus the grader's own time, within PrairieLearn's ceiling."""
    return min(MAX_JOB_SECONDS, int(budget) + START_SECONDS)


def info_json(graded, image, timeout):
    info = {"uuid": str(uuid.uuid5(NAMESPACE, f"autograder/{graded.name}")),
            "title": f"{graded.name}: upload your modules",
            "topic": graded.name,
            "tags": ["autograder"],
            "type": "v3",
            "singleVariant": True,
            "gradingMethod": "External",
            "externalGradingOptions": {"enabled": True, "image": image, "entrypoint": ENTRYPOINT,
                                       "timeout": timeout}}
    return json.dumps(info, indent=2) + "\n"


def question_html(graded):
    modules = ", ".join(graded.spec.modules)
    names = html.escape(modules)
    return f"""<pl-question-panel>
  <p>Upload your modules of <strong>{html.escape(graded.name)}</strong>: {names}.</p>
  <p>The grader runs the public and the hidden checks on them; your score is the share of their points
  you earn. The public checks are those <code>make grade</code> runs in your folder. A submission that lacks
  a module is not graded and does not count as an attempt.</p>
  <pl-file-upload file-names="{names}"></pl-file-upload>
</pl-question-panel>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def question_contents(graded, timeout, grading_options=(), image=DEFAULT_IMAGE):
    """{path: bytes} of the build: a grading job may take ``timeout`` seconds, and
    ``grading_options`` (e.g. ["--timeout", "2"]) are baked into the entrypoint as
    the options of every grading."""
    question = f"questions/{graded.name}"
    options = shlex.join(["--assignment", graded.name, *grading_options])
    run_grader = (HERE / "run_grader").read_text().replace("@GRADING_OPTIONS@", options)
    contents = {f"{question}/info.json": info_json(graded, image, timeout).encode(),
                f"{question}/question.html": question_html(graded).encode(),
                f"{question}/tests/run_grader": run_grader.encode(),
                "image/Dockerfile": (HERE / "Dockerfile").read_text().replace("@ASSIGNMENT@", graded.name).encode(),
                "image/requirements.txt": pinned_requirements().encode()}
    contents.update({f"{question}/tests/{path}": data for path, data in grader_files(graded).items()})
    return contents


def check_output_folder(out):
    """Refuse, before anything is written, a folder that is not new, empty or an
    earlier build: the build replaces it whole."""
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise NotAQuestionFolder(f"{out} is not a folder")
    if out.is_dir() and any(out.iterdir()) and sorted(p.name for p in out.iterdir()) != ["image", "questions"]:
        raise NotAQuestionFolder(f"{out} holds files of its own (a build holds only image/ and questions/); "
                                 "choose a new or empty folder, since the build replaces it whole")


def build_question(out, graded, timeout, grading_options=(), image=DEFAULT_IMAGE):
    """Write the build into the folder ``out`` (replaced whole) and return the
    question's folder."""
    check_output_folder(out)
    contents = question_contents(graded, timeout, grading_options, image)
    with fresh_folder(out) as staging:
        for path, data in sorted(contents.items()):
            write_atomic_bytes(staging / path, data)
            if path.endswith("/run_grader"):
                os.chmod(staging / path, 0o777 & ~umask())
    return Path(out) / "questions" / graded.name
