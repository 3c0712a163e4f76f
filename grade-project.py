#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests, with each one's emulator and vendor.  The tests
and their harness are the grade/ package (grade/__init__.py lists its
modules; docs/writing-tests.md says how to add one)."""

import sys

import grade
from grade.runner import main


if __name__ == "__main__":
    grade.load_tests()
    sys.exit(main())
