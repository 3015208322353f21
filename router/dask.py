"""The Dask engine's former import path: see :mod:`router.batch.dask`."""

from __future__ import annotations

from .batch.dask import route_dataframe, run_dask

__all__ = ["route_dataframe", "run_dask"]
