"""otter-grader, imported once without the DeprecationWarning its dependency ipylab raises
(traitlets types passed as traits), which the test suite turns into errors."""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import otter
    from otter.test_files.exception_test import ExceptionTestFile

__all__ = ["otter", "ExceptionTestFile"]
