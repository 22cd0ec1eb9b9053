"""kgc: turn a text corpus into a knowledge graph with LLMs (Graphusion-style).

Heavy dependencies (torch, BERTopic, llama.cpp) are imported only by the stages that need them.
"""

__version__ = "0.1.0"
