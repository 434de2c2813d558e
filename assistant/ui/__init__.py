"""The browser face: the Gradio chat (`app`), the document view (`docview`), the library and
feedback, mounted on the JSON API by `mount.mount_ui`. The renderers (`render`, `figure_card`)
do not import Gradio, so the CLI can use them."""
