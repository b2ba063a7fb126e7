"""Reports a person reads and listens to: the evaluation page (`page`) and several systems side by side (`systems`)."""
