"""Pure figure builders: ``fig_*(result, ...) -> plotly.graph_objects.Figure``, one shared look."""
