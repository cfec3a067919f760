"""The trainable statistical email classifier.

`corpus` loads labelled folders, `features` turns a parsed email into named features,
`model` trains, scores, saves and loads a linear model over them, and `evaluation` measures
one by cross-validation. Nothing is imported here, so importing the package stays free:
numpy, scipy and scikit-learn are imported only by the functions that train or load a model.
"""
