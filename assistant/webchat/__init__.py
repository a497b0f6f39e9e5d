"""The customers' chat page (``/chat``): sign in with a customer key, start a conversation, watch
the answer arrive sentence by sentence with its citations, the hand-off when a person takes over,
and that person's reply. Server-rendered, no build step; the form works without JavaScript."""
