"""What can reach what under NetworkPolicy v1, and why: inventory, matrix build, verdicts, explanations."""
