"""lerf_ros: online Language Embedded Radiance Fields for ROS 2.

Everything outside ``lerf_ros.ros`` is ROS-free (plain Python + torch).

The generated ROS interfaces (``lerf_ros.msg``, ``lerf_ros.srv``) may live in a
different directory from these sources: a colcon install merges both into one
folder, while the pip set-up (scripts/setup.sh) installs the generated bindings
into the venv's site-packages and keeps the sources editable. Extending the
package path lets both layouts resolve ``lerf_ros.msg``.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
