"""What goes into a triplet, decided without an LLM: the candidate names a passage offers
(`spans`) and the rules a name must pass to be a concept (`names`). The extraction stage
(kgc.stages.extraction) offers the first to the model and applies the second to its answers;
`kgc eval` judges a finished graph by the same rules."""

# The version of these rules, and of what the stage does with an answer (grounding, one sentence per
# relation, cues): bump it with any change to this package that changes the candidates one answer
# gives, or the candidate names a passage offers. A run made with another version redoes its
# extraction units (their keys and the stage's key hold it) from the LLM cache: no request it paid
# before is paid again.
RULES_VERSION = "1"
