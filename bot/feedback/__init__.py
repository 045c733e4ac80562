"""Questions the bot could not answer become the office's work: logged (masked, counted),
listed for staff, and handed to an officer when the citizen asks for a person."""
