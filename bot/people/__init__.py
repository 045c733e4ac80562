"""The people the bot knows: citizens' profiles (users), officers and their invitations
(staff), roles and the audit trail (roles), and open conversations (conversations)."""
