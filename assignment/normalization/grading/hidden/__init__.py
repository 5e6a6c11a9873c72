"""The hidden checks, by module. Every check is an ordinary function of (student, ref)."""
from . import groupnorm, layernorm, spatial_batchnorm

CHECKS = [*layernorm.suite.checks, *spatial_batchnorm.suite.checks, *groupnorm.suite.checks]
