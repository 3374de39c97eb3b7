"""The five Word exports in one place, for callers that want them side by side.

Each lives in its own module (`clean`, `compilation`, `tracked`, `compare`,
`amendment_list`); this module only gathers them.
"""

from app.docx.amendment_list import amendment_list
from app.docx.clean import clean_text
from app.docx.compare import comparison
from app.docx.compilation import compilation
from app.docx.tracked import tracked_changes

__all__ = ["amendment_list", "clean_text", "comparison", "compilation", "tracked_changes"]
