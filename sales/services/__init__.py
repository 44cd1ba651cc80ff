"""Writes of the sales app (HackSoft-style services). Import from the submodules:

* ``sales.services.checkout``: ``sale_checkout``, ``TillError``, input dataclasses.
* ``sales.services.stock``: ``stock_movement_record``, ``stock_movements_record_bulk``.
* ``sales.services.snapshots``: ``sale_snapshot_build``.
"""
