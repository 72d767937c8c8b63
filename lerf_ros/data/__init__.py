"""Posed-image data: dataset loaders (:mod:`.datasets`) and synthetic scenes (:mod:`.synthetic`)."""
