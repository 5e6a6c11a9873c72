"""The PrairieLearn front end: an external grader. ``question`` writes a question
folder (``info.json``, ``question.html``, the grader in ``tests/``) and the image
definition (``Dockerfile``) a course builds; ``run`` is what the question's
entrypoint, ``run_grader`` (kept here as a file), calls for every submission;
``results`` writes PrairieLearn's results.json."""
