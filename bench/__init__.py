"""The project's benchmark suite: ``python -m bench [-k SUBSTRING] [--repeats N] [--list]``.

It lives outside ``regopt_core`` because some entries drive the app (``page.*`` runs pages under
Streamlit's AppTest); the numerical core never imports anything from here or from the app.
One module per topic defines ``entries() -> list[bench.Case]``.
"""

from bench.harness import Case, discover, main, measure

__all__ = ["Case", "discover", "main", "measure"]
