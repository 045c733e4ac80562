"""The staff web console and the public satisfaction-index page, on the bot's own server.

Staff sign in with a one-time link the bot gives them in the chat (/konsol); every page checks
their role and unit from the staff records, and every change goes through the same domain
functions as the chat, so rules, audit trail and citizens' notifications are the same.
"""
