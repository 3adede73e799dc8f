"""RegOpt Lab numerics: pure numpy/scipy code behind every page.

Nothing in this package imports streamlit (``tests/core/test_no_streamlit.py`` checks it), so every
function can be read, tested and reused outside the app.
"""

__version__ = "0.1.0"
