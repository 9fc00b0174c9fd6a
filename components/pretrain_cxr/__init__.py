"""The pretrain_cxr component."""
