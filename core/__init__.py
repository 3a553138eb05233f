"""The dashboard's library: datasets, models, training, evaluation. Never imports streamlit."""
from core.errors import DatasetError, UserError
from core.data.spec import DatasetSpec

__all__ = ["DatasetError", "DatasetSpec", "UserError"]
