"""The Gradescope front end: ``bundle`` builds ``autograder.zip`` (``setup.sh`` and
``run_autograder`` are its two scripts, kept here as files), ``run`` is what
``run_autograder`` calls for every submission."""
