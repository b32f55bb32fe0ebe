"""battery-plan: capacity and make-or-buy planning for Morocco's EV battery value chain.

Pipeline: workbook (:mod:`model.workbook`) -> validated data (:mod:`model.data`) -> Pyomo model
(:mod:`model.formulation`) -> HiGHS (:mod:`model.solve`) -> tidy tables (:mod:`model.results`),
rechecked (:mod:`model.verify`) -> Excel report (:mod:`model.report`).
"""
__version__ = "0.1.0"
#: Version of the mathematical formulation; bump when answers can change.
MODEL_VERSION = "2.0"  # formulation.md Version 2 (exports <= local output, recipes, cell imports, ...)
