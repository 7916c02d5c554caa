"""The data sets, records and values the page reads, each checked as if forged."""
