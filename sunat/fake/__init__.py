"""The SUNAT double (``manage.py fake_sunat``); see :mod:`sunat.fake.server`."""

from .server import FakeSunat, FakeSunatConfig, FakeSunatServer, cdr_build

__all__ = ["FakeSunat", "FakeSunatConfig", "FakeSunatServer", "cdr_build"]
