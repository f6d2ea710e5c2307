"""What a regulator and an auditor receive: case packs, monthly figures, their wording."""
