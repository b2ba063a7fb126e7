"""Helpers shared by the tests: tiny configs, the official reference modules, fixtures' builders."""
