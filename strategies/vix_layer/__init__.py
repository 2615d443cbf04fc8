"""The VIX layer (the second engine): a futures ladder, a call block, a 1:N call backspread and
an add-on block, sized so their scenario gain offsets k x the condor book's scenario loss.

Entry points: `decide_hedge` (the 10:30 rebalance, `rebalance.py` reads as its table of
contents) and `decide_vix_rolls` (the 10:15 rolls job). Pure: no I/O, no clock reads.
"""

from strategies.vix_layer.rebalance import decide_hedge
from strategies.vix_layer.rolls import decide_vix_rolls

__all__ = ["decide_hedge", "decide_vix_rolls"]
