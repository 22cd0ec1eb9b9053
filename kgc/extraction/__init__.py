"""What goes into a triplet, decided without an LLM: the candidate names a passage offers
(`spans`) and the rules a name must pass to be a concept (`names`). The extraction stage
(kgc.stages.extraction) offers the first to the model and applies the second to its answers;
`kgc eval` judges a finished graph by the same rules."""
