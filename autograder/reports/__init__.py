"""What grading produces: Gradescope result files, score tables, grades.csv and
per-student feedback. Every file is written atomically."""
