"""The one exception of the fine-tuning stages: a problem a person can fix, never a bug."""
from __future__ import annotations

from dsc.errors import DscError
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR


class FinetuneError(DscError):
    """A problem with a finetune block, its base model or its train split.

    `setting` names the spec setting at fault (and `value`, one of its values), so the command
    line can point at it; `method` says which method's block, when several are estimated;
    `missing` marks a file that is not there (exit 4) as opposed to a spec that says
    something impossible (exit 2). The code is a DSC2xx one when a spec setting is at fault,
    DSC307 for a base model or train split that is missing or cannot be used.

    >>> err = FinetuneError("DSC209", "r 64 is larger than the layer", setting="r", hint="lower r")
    >>> str(err), err.missing
    ('r 64 is larger than the layer', False)
    """

    def __init__(self, code: str, message: str, *, setting: str | None = None, value: str | None = None,
                 hint: str | None = None, missing: bool = False):
        super().__init__(message, code=code, hint=hint, exit_code=EXIT_INPUT_ERROR if missing else EXIT_SPEC_ERROR)
        self.setting = setting
        self.value = value
        self.method: str | None = None
        self.missing = missing
