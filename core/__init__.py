"""The dashboard's library: datasets, models, training, evaluation. Never imports streamlit."""
from core.data.spec import DatasetSpec
from core.errors import DatasetError, UserError

__all__ = ["DatasetError", "DatasetSpec", "UserError"]
