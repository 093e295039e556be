@echo off
rem keisei-usi for a shogi GUI on Windows: register this file as the engine where the GUI
rem accepts a .bat (docs/gui.md); otherwise register .venv\Scripts\keisei-usi.exe and set the
rem Checkpoint option. A GUI starts an engine without arguments, from a folder of its own
rem choosing; this finds the checkout's .venv from where the file lives.
rem
rem CHECKPOINT: a run's workdir or one checkpoint's folder, as an absolute path, or a shipped
rem network (baseline:az_lambda_850). Empty: the GUI's Checkpoint option decides.
set "CHECKPOINT=baseline:az_lambda_850"
if "%CHECKPOINT%"=="" (
    "%~dp0..\..\.venv\Scripts\keisei-usi.exe" %*
) else (
    "%~dp0..\..\.venv\Scripts\keisei-usi.exe" --checkpoint "%CHECKPOINT%" %*
)
