"""`qa bench`: how well the bot ranks and answers on labelled sets, how fast, and in how much memory.

- `datasets`: the labelled sets (our seeds questions, BEIR folders, SQuAD-format files);
- `bench`: every mode over one set, measured through the bot's own answer path (qa.pipeline);
- `squad`: SQuAD's answer normalisation and the answer tallies;
- `report`: the tables printed for people.
"""
