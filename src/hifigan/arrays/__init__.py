"""Arrays below the front-end and the models: tensors without torch, a mel's shapes, exact padding, the int16 scale."""
