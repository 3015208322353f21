"""Sample inquiries shared by the batch, CLI and Dask tests.

Several languages, every unit and one out-of-scope question; no commas, so each fits a
CSV cell unquoted.
"""

QUESTIONS = [
    "who fines companies that break the AI Act?",
    "who handles systemic-risk testing of frontier models?",
    "Qui finance les usines d'IA et les EDIH ?",
    "what is the weather in Brussels tomorrow?",
    "Wer koordiniert die KI-Politik der EU?",
    "AI for climate and health projects",
    "GenAI4EU calls",
    "hello",
]
