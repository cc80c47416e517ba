#!/usr/bin/python3
"""The Jupyter protocol conformance suite (Debian's python3-jupyter-kernel-test) against NotebookLab's kernel.

    JUPYTER_PATH=DIR NOTEBOOKLAB_KERNEL=NAME /usr/bin/python3 -m unittest tests/hosts/kernel_protocol_tests.py -v

NAME is a kernelspec written by `notebooklab kernel install --prefix P --name NAME` (then DIR is P/share/jupyter).
Every sample attribute of jupyter_kernel_test.KernelTests is set, so none of its tests skips.
"""
import os
import unittest

import jupyter_kernel_test


class NotebookLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ.get("NOTEBOOKLAB_KERNEL", "notebooklab")

    language_name = "C#"
    file_extension = ".cs"

    code_hello_world = 'Console.WriteLine("hello, world");'
    code_stderr = 'Console.Error.WriteLine("something went wrong");'

    completion_samples = [
        {"text": "Console.Wri", "matches": {"Write", "WriteLine"}},
        {"text": "var learningRate = 0.1; learningR", "matches": {"learningRate"}},
        {"text": "Math.Sqr", "matches": {"Sqrt"}},
    ]

    complete_code_samples = ["1 + 1", 'Console.WriteLine("hi");', "int Twice(int x) { return 2 * x; }", "#!time\nvar x = 1;"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "int Twice(int x) {", "var list = new List<int> {"]
    invalid_code_samples = ["int x = ;", "Console.WriteLine(1));"]

    code_page_something = "Console.WriteLine?"

    code_generate_error = 'throw new InvalidOperationException("boom");'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"hello"', "result": "hello"},
        {"code": "new[] { 1, 2, 3 }.Sum()", "result": "6"},
    ]

    code_display_data = [
        {"code": 'display(HTML("<b>bold</b>"));', "mime": "text/html"},
        {"code": 'display("plain text");', "mime": "text/plain"},
    ]

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Console.WriteLine"

    code_clear_output = 'Console.WriteLine("gone"); ClearOutput();'


if __name__ == "__main__":
    unittest.main()
