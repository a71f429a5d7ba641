"""Buskerudplanen's guidelines as rules: the rule model, registry, rule set and engine."""
