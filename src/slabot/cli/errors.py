"""Errors the command line reports as one clear line and a non-zero exit, never a traceback."""


class CliError(Exception):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code
