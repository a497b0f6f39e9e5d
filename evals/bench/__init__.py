"""The prompt-change benchmark: run a dataset through the whole pipeline, store the run, compare
two runs case by case with statistics, and gate on significant regressions."""
