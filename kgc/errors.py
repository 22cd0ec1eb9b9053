"""One root error; the CLI turns any KgcError into a clear message and exit code 1."""


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
    """The run's time budget (llm.deadline_seconds) is spent: the run stops at a resumable checkpoint."""


class ModelAssetError(KgcError):
    """A local model file is missing or corrupt (e.g. a sha256 mismatch)."""


class ExportError(KgcError):
    """Writing the graph to a file or database failed."""


class EvaluationError(KgcError):
    """A gold, alias or pairs file (or the run being evaluated) cannot be used; says which file and line."""


class RunDirError(KgcError):
    """A run directory cannot be used: not a directory, a damaged artifact, held by another process."""
