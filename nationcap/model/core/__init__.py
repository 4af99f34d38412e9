"""The core formulation: abatement columns, entity compliance, market clearing, objective."""
