import a_module_that_does_not_exist  # noqa: F401


def score(example, pred, trace=None):
    return True
