"""Azure Cost Management cost details exports (EA, MCA, legacy usage; actual and amortized) -> raw_azure_cost."""
