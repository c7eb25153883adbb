"""Labelled vehicle-days (issue #5, detection quality): one car's scripted day in the Wuhan
circle, the database facts it needs (orders, duty registrations, holiday seals, the calendar)
and, for every rule, the outcome a correct system must find (a severity, or none).

- model.py: the types (LabelledDay, OrderFact, Span, Label rules);
- kit.py: the scenario's places, lots, zones and roads as the families use them;
- truth.py: what the car really did (rendered without noise): its trips, stops, places;
- render.py: a day through the simulator's own vehicle model (world.py) to device messages;
- noise.py: realistic GNSS noise and delivery (jitter, spikes, gaps, duplicates, 盲区补报);
- families_*.py: the scripted days per rule, violations and their clean look-alikes;
- catalogue.py: a labelled set (vehicles and dates allocated so that days do not touch);
- facts_store.py: the facts written into the real tables (SQL);
- offline.py: the same days judged by the pure engine (filters, trips, episodes, rules).
"""
