"""One implementation of each heavy computation the analyses share (scans of the log, milestone visits,
alignments, goal crediting, survey answers, the pm4py adapter). Each takes an EventLog and returns narrow
tables; the public fronts (engine, filters) and the analyses call them. Kernels import only the data layer
and ``_core``."""
