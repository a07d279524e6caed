# child: filled in by its owner
