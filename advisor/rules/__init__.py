"""The rule library: its format and loader (``library``), the condition language
(``conditions``), the registry of fields conditions may test (``fields``), rule
test cases (``testing``) and the generated reference (``docs``)."""
