"""One root error; the CLI turns any KgcError into a clear message and exit code 1."""

import errno
import sqlite3

DISK_FULL_HINT = (
    "Free some space and run the same command again: it resumes where this run stopped (finished "
    "stages and every LLM answer received so far are kept)."
)


class KgcError(Exception):
    """Base of every error kgc raises on purpose."""


class ConfigError(KgcError):
    """The configuration (file, environment or flags) is invalid."""


class CorpusError(KgcError):
    """The corpus cannot be read at all (no usable document)."""


class SchemaError(KgcError):
    """A relation schema or name is invalid or unsafe."""


class LLMError(KgcError):
    """An LLM call failed for good (after retries)."""


class LLMUnavailableError(LLMError):
    """The LLM server is down or unreachable: the run stops at a resumable checkpoint."""


class BudgetExceededError(LLMError):
    """The token or cost budget is spent: the run stops at a resumable checkpoint."""


class DeadlineExceededError(BudgetExceededError):
    """The run's time budget (llm.budget.deadline_seconds) is spent: the run stops at a resumable checkpoint."""


class ModelAssetError(KgcError):
    """A local model file is missing or corrupt (e.g. a sha256 mismatch)."""


class ExportError(KgcError):
    """Writing the graph to a file or database failed."""


class EvaluationError(KgcError):
    """A gold, alias or pairs file (or the run being evaluated) cannot be used; says which file and line."""


class RunDirError(KgcError):
    """A run directory cannot be used: not a directory, a damaged artifact, held by another process."""


class DiskFullError(KgcError):
    """No space left where kgc writes: the run stopped, and a rerun after freeing space resumes."""


def is_disk_full(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, says there is no space left: ENOSPC or EDQUOT
    from the OS, SQLITE_FULL from sqlite."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFullError):
            return True
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if (
            isinstance(error, sqlite3.Error)
            and getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL
        ):
            return True
        error = error.__cause__ or error.__context__
    return False
